{#
    The layer is the folder: a model under models/<domain>/staging/, .../intermediate/ or
    .../silver/ builds into schema `silver`, one under
    models/<domain>/gold/ into `gold`, for any domain and with no per-domain config. An explicit
    `schema` config (data tests: `ua`) is the schema itself, not a suffix of the target schema.
    The result is `sit.silver.member_demographics` on Databricks and `silver.member_demographics`
    locally. A model outside a layer folder fails the parse instead of landing in `default`.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is not none -%}
        {{ custom_schema_name | trim }}
    {%- elif node.resource_type == 'model' -%}
        {{ data_ops_layer_schema(node) }}
    {%- else -%}
        {{ target.schema }}
    {%- endif -%}
{%- endmacro %}

{#- Schema of a model from its folder: models/<domain>/<layer>/... (fqn: project, domain, layer). -#}
{% macro data_ops_layer_schema(node) -%}
    {%- set layers = {'staging': 'silver', 'intermediate': 'silver', 'silver': 'silver', 'gold': 'gold'} -%}
    {%- set fqn = node.fqn -%}
    {%- if fqn | length >= 4 and fqn[2] in layers -%}
        {{ layers[fqn[2]] }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "model " ~ node.name ~ " (" ~ node.original_file_path ~ ") is not in a layer folder:"
            ~ " move it to models/<domain>/staging/, .../intermediate/, .../silver/ or"
            ~ " models/<domain>/gold/ (the folder sets its schema), or set its schema config"
        ) }}
    {%- endif -%}
{%- endmacro %}
