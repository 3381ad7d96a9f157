{#
    on-run-start hook, local target only: create any bronze source table declared with an
    ingestion contract but not yet loaded, with the schema ingestion gives it (declared columns
    plus ingestion metadata), so `dbt build --target local` works on a fresh lakehouse before
    the first `data-ops ingest`. On Databricks the bundle's ingest task always runs first and
    owns the bronze tables, so this does nothing there.
#}
{% macro create_bronze_sources() %}
    {%- if not execute or target.type != 'sparklocal' -%}
        {{ return('') }}
    {%- endif -%}
    {%- for source in graph.sources.values() -%}
        {%- if source.config.meta.get('ingestion') or source.meta.get('ingestion') -%}
            {%- set columns = [] -%}
            {%- for column in source.columns.values() -%}
                {%- do columns.append(
                    '`' ~ column.name ~ '` ' ~ column.data_type ~ ' comment '
                    ~ "'" ~ (column.description | replace('\\', '\\\\') | replace("'", "\\'")) ~ "'"
                ) -%}
            {%- endfor -%}
            {%- do columns.extend([
                '`_source_file` string',
                '`_source_file_modified_at` timestamp',
                '`_ingested_at` timestamp',
                '`_ingest_run_id` string',
                '`_rescued_data` string',
            ]) -%}
            {% do run_query('create schema if not exists ' ~ source.schema) %}
            {% do run_query(
                'create table if not exists ' ~ source.schema ~ '.' ~ source.identifier
                ~ ' (' ~ columns | join(', ') ~ ') using delta'
            ) %}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
