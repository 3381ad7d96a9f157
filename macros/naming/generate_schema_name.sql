{#
    The folder's `+schema` (silver, gold, ...) is the schema itself, not a suffix of the
    target schema: `sit.silver.member_demographics` on Databricks, `silver.member_demographics`
    locally. Models without a layer fall back to the target schema.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
