{#
    Fails with one row per gold column (any domain) classified as a direct identifier in its
    YAML (config.meta.phi). Reads the project graph, so it checks the declaration, not data.
#}
{%- set offenders = [] -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() -%}
        {%- if node.resource_type == 'model' and node.config.schema == 'gold' -%}
            {%- for column in node.columns.values() -%}
                {%- set column_meta = (column.config or {}).get('meta') or column.meta or {} -%}
                {%- if column_meta.get('phi') == 'direct_identifier' -%}
                    {%- do offenders.append((node.name, column.name)) -%}
                {%- endif -%}
            {%- endfor -%}
        {%- endif -%}
    {%- endfor -%}
{%- endif %}

select
    cast(null as string) as gold_model,
    cast(null as string) as gold_column
where false
{% for model_name, column_name in offenders %}
    union all
    select
        '{{ model_name }}' as gold_model,
        '{{ column_name }}' as gold_column
{% endfor %}
