{#
    on-run-end hook: append this invocation's node results to `<catalog>.gold.dbt_run_results`,
    one INSERT (one Delta commit) per invocation; Delta auto-compacts the small files this makes.
    Runs the same way in `data-ops run` locally and in the bundle's dbt task on Databricks.
    `run_id` is DATA_OPS_RUN_ID (set by `data-ops run`, and equal to the ingestion run id, so it
    joins gold.pipeline_logs) or dbt's invocation id.
    For tests with store_failures, `failures_relation` names the table holding the failing rows.
    `schema_name` is the node's schema, i.e. its layer (silver, gold; ua for data tests): the run
    report and the operations dashboard sum durations per layer with it. A table made before the
    column existed gets it added (older rows keep null there).
#}
{% macro run_results_relation() -%}
    {{ return(api.Relation.create(
        database=(target.database if target.type == 'databricks' else none),
        schema='gold',
        identifier='dbt_run_results',
        type='table',
    )) }}
{%- endmacro %}

{% macro sql_text(value) -%}
    {%- if value is none -%}
        null
    {%- else -%}
        '{{ (value | string) | replace("\\", "\\\\") | replace("'", "\\'") | replace("\n", " ") | truncate(4000, true, "...") }}'
    {%- endif -%}
{%- endmacro %}

{% macro record_run_results(results) %}
    {%- if not execute or results | length == 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set relation = run_results_relation() -%}
    {%- set schema_sql -%}
        create schema if not exists {{ relation.without_identifier() }}
    {%- endset -%}
    {% do run_query(schema_sql) %}
    {%- set create_sql -%}
        create table if not exists {{ relation }} (
            run_id string,
            invocation_id string,
            target_name string,
            unique_id string,
            resource_type string,
            node_name string,
            domain string,
            status string,
            failures bigint,
            rows_affected bigint,
            execution_seconds double,
            message string,
            failures_relation string,
            started_at timestamp,
            completed_at timestamp,
            recorded_at timestamp,
            schema_name string
        ) using delta
        comment 'dbt node results per invocation (data-ops on-run-end hook); join gold.pipeline_logs on run_id.'
        tblproperties (
            'delta.autoOptimize.autoCompact' = 'true',
            'delta.checkpointInterval' = '100',
            'delta.dataSkippingNumIndexedCols' = '2'
        )
    {%- endset -%}
    {% do run_query(create_sql) %}
    {%- set existing = adapter.get_columns_in_relation(relation) | map(attribute='name') | list -%}
    {%- if 'schema_name' not in existing -%}
        {% do run_query('alter table ' ~ relation ~ ' add columns (schema_name string)') %}
    {%- endif -%}
    {%- set run_id = env_var('DATA_OPS_RUN_ID', invocation_id) -%}
    {%- set rows = [] -%}
    {%- for result in results -%}
        {%- set node = result.node -%}
        {%- set timing = namespace(started=none, completed=none) -%}
        {%- for step in result.timing if step.name == 'execute' -%}
            {%- set timing.started = step.started_at -%}
            {%- set timing.completed = step.completed_at -%}
        {%- endfor -%}
        {%- set started = timing.started -%}
        {%- set completed = timing.completed -%}
        {%- set response = result.adapter_response or {} -%}
        {%- set failures_relation = node.relation_name if node.resource_type == 'test' and node.config.store_failures else none -%}
        {%- set domain = node.fqn[1] if node.fqn | length > 2 else none -%}
        {%- do rows.append(
            "(" ~ sql_text(run_id) ~ ", " ~ sql_text(invocation_id) ~ ", " ~ sql_text(target.name)
            ~ ", " ~ sql_text(node.unique_id) ~ ", " ~ sql_text(node.resource_type)
            ~ ", " ~ sql_text(node.name) ~ ", " ~ sql_text(domain) ~ ", " ~ sql_text(result.status)
            ~ ", " ~ (result.failures if result.failures is not none else 'null')
            ~ ", " ~ (response.get('rows_affected') if response.get('rows_affected') is not none else 'null')
            ~ ", " ~ (result.execution_time or 0)
            ~ ", " ~ sql_text(result.message) ~ ", " ~ sql_text(failures_relation)
            ~ ", " ~ ("timestamp'" ~ started.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'" if started else 'null')
            ~ ", " ~ ("timestamp'" ~ completed.strftime('%Y-%m-%d %H:%M:%S.%f') ~ "'" if completed else 'null')
            ~ ", current_timestamp(), " ~ sql_text(node.schema)
            ~ ")"
        ) -%}
    {%- endfor -%}
    {%- set insert_sql -%}
        insert into {{ relation }} values
        {{ rows | join(",\n") }}
    {%- endset -%}
    {% do run_query(insert_sql) %}
    {{ return('') }}
{% endmacro %}
