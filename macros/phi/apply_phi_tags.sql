{#
    Post-hook: turn each column's PHI class (`config: meta: {phi: ...}` in the model YAML) into
    a Unity Catalog column tag `phi = <class>` on Databricks. Locally (any other adapter) it
    renders nothing, and dbt skips an empty hook. Each ALTER runs as its own statement because
    the Databricks SQL endpoint takes one statement per call.

    Enable it per model in YAML:  config: {post_hook: "{{ apply_phi_tags() }}"}
#}
{% macro apply_phi_tags() -%}
    {%- if execute and target.type == 'databricks' -%}
        {%- for column in model.columns.values() -%}
            {%- set phi = (column.get('config') or {}).get('meta', {}).get('phi')
                or (column.get('meta') or {}).get('phi') -%}
            {%- if phi is none -%}
                {{ exceptions.raise_compiler_error(
                    "column " ~ column.name ~ " of " ~ model.name ~ " has no PHI class: add "
                    ~ "config: meta: {phi: direct_identifier|quasi_identifier|sensitive|none} "
                    ~ "to its YAML"
                ) }}
            {%- endif -%}
            {%- do run_query(
                "alter table " ~ this ~ " alter column " ~ adapter.quote(column.name)
                ~ " set tags ('phi' = '" ~ phi ~ "')"
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
