{#
    on-run-start hook: the bronze tables that the selected models read must exist. They are
    created by the ingestion (python_ingest) when it loads a table's first file, with the
    columns the contract declares plus the ingestion metadata columns; dbt never creates them.
    Without this check a build before the first delivery fails on the first staging view with
    the engine's "table not found"; with it, the run stops at once, naming the tables and the
    fix. The same check runs on every target.
#}
{% macro check_bronze_sources() %}
    {%- if not execute or flags.WHICH not in ('build', 'run') -%}
        {{ return('') }}
    {%- endif -%}
    {%- set missing = [] -%}
    {%- set seen = [] -%}
    {%- for node_id in selected_resources -%}
        {%- set node = graph.nodes.get(node_id) -%}
        {%- for dependency in (node.depends_on.nodes if node else []) -%}
            {%- set source = graph.sources.get(dependency) -%}
            {%- if source and dependency not in seen
                and (source.config.meta.get('ingestion') or source.meta.get('ingestion')) -%}
                {%- do seen.append(dependency) -%}
                {%- set relation = adapter.get_relation(
                    database=source.database, schema=source.schema, identifier=source.identifier
                ) -%}
                {%- if relation is none -%}
                    {%- do missing.append(source.schema ~ '.' ~ source.identifier) -%}
                {%- endif -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- if missing -%}
        {{ exceptions.raise_compiler_error(
            "bronze table(s) " ~ (missing | join(', ')) ~ " do not exist yet: no file has been"
            ~ " loaded into them. Deliver files to their landing folders and run `data-ops"
            ~ " ingest --target " ~ target.name ~ "` (locally `data-ops run` does both) before"
            ~ " building their models"
        ) }}
    {%- endif -%}
    {{ return('') }}
{% endmacro %}
