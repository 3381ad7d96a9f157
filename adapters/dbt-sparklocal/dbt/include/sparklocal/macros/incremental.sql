{#
    Incremental strategies of the local engine, written to behave as dbt-databricks does on
    Databricks, so one model config runs on both:
    - merge: the key matches null-safely (<=>), and the options dbt-databricks documents are
      honoured: merge_update_columns / merge_exclude_columns, matched_condition,
      not_matched_condition, not_matched_by_source_action / _condition, skip_matched_step,
      skip_not_matched_step, incremental_predicates.
    - delete+insert: every target row whose unique_key value is in the new rows is removed, then
      the new rows are inserted (no incremental_predicates). Open-source Delta rejects a subquery in DELETE, so the removal is
      a MERGE whose only action is delete (dbt-databricks runs DELETE ... IN (select) or, from DBR
      17.1, INSERT ... REPLACE ON: the same rows either way).
#}

{% macro sparklocal__get_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) %}
  {%- set predicates = [] if incremental_predicates is none else [] + incremental_predicates -%}
  {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
  {%- set update_columns = get_merge_update_columns(
      config.get('merge_update_columns'), config.get('merge_exclude_columns'), dest_columns
  ) -%}
  {%- set matched_condition = config.get('matched_condition') -%}
  {%- set not_matched_condition = config.get('not_matched_condition') -%}
  {%- set by_source_action = config.get('not_matched_by_source_action') -%}
  {%- set by_source_condition = config.get('not_matched_by_source_condition') -%}
  {%- set by_source_trimmed = (by_source_action or '') | lower | trim -%}
  {%- if by_source_action and not (by_source_trimmed == 'delete' or by_source_trimmed.startswith('update')) -%}
    {%- do exceptions.raise_compiler_error(
        "not_matched_by_source_action must be 'delete' or 'update set ...', got: " ~ by_source_action
    ) -%}
  {%- endif -%}
  {%- for key in sparklocal__unique_keys(unique_key) -%}
    {%- do predicates.append('DBT_INTERNAL_SOURCE.' ~ key ~ ' <=> DBT_INTERNAL_DEST.' ~ key) -%}
  {%- endfor -%}
  {%- if not unique_key -%}
    {%- do predicates.append('FALSE') -%}
  {%- endif %}

  merge into {{ target }} as DBT_INTERNAL_DEST
  using {{ source }} as DBT_INTERNAL_SOURCE
  on {{ predicates | join('\n    and ') }}
  {%- if not (config.get('skip_matched_step') | lower == 'true') %}
  when matched
    {%- if matched_condition %} and ({{ matched_condition }}){% endif %}
    then update set
    {%- if update_columns %}
      {%- for column_name in update_columns %}
      {{ column_name }} = DBT_INTERNAL_SOURCE.{{ column_name }}{{ "," if not loop.last }}
      {%- endfor %}
    {%- else %} *
    {%- endif %}
  {%- endif %}
  {%- if not (config.get('skip_not_matched_step') | lower == 'true') %}
  when not matched
    {%- if not_matched_condition %} and ({{ not_matched_condition }}){% endif %}
    then insert *
  {%- endif %}
  {%- if by_source_action %}
  when not matched by source
    {%- if by_source_condition %} and ({{ by_source_condition }}){% endif %}
    then {{ by_source_action }}
  {%- endif %}
{% endmacro %}


{% macro sparklocal__unique_keys(unique_key) -%}
  {%- if not unique_key -%}
    {{ return([]) }}
  {%- elif unique_key is string -%}
    {{ return([unique_key]) }}
  {%- else -%}
    {{ return(unique_key | list) }}
  {%- endif -%}
{%- endmacro %}


{#- dbt-spark's strategy check, with delete+insert added. -#}
{% macro dbt_spark_validate_get_incremental_strategy(raw_strategy, file_format) %}
  {%- set strategies = ['append', 'merge', 'insert_overwrite', 'microbatch', 'delete+insert'] -%}
  {%- if raw_strategy not in strategies -%}
    {%- do exceptions.raise_compiler_error(
        "Invalid incremental strategy provided: " ~ raw_strategy
        ~ ". Expected one of: " ~ strategies | join(', ')
    ) -%}
  {%- endif -%}
  {%- if raw_strategy in ['merge', 'delete+insert'] and file_format != 'delta' -%}
    {%- do exceptions.raise_compiler_error(
        "The " ~ raw_strategy ~ " strategy needs file_format 'delta', got: " ~ file_format
    ) -%}
  {%- endif -%}
  {% do return(raw_strategy) %}
{% endmacro %}


{#- dbt-spark's strategy dispatch, with delete+insert added. -#}
{% macro dbt_spark_get_incremental_sql(strategy, source, target, existing, unique_key, incremental_predicates) %}
  {%- if strategy == 'delete+insert' -%}
    {{ sparklocal__delete_insert_sql(source, target, unique_key, incremental_predicates) }}
  {%- elif strategy == 'append' -%}
    {{ get_insert_into_sql(source, target) }}
  {%- elif strategy in ['insert_overwrite', 'microbatch'] -%}
    {%- if strategy == 'microbatch' and not config.get('partition_by') -%}
      {%- do exceptions.raise_compiler_error(
          "The microbatch strategy needs a partition_by config of grain " ~ config.get('batch_size')
      ) -%}
    {%- endif -%}
    {{ get_insert_overwrite_sql(source, target, existing) }}
  {%- else -%}
    {{ get_merge_sql(target, source, unique_key, dest_columns=none, incremental_predicates=incremental_predicates) }}
  {%- endif -%}
{% endmacro %}


{#-
    Runs the removal as its own statement while the caller's `main` statement is rendered, and
    returns the insert for `main`: Spark SQL takes one statement per call.
-#}
{% macro sparklocal__delete_insert_sql(source, target, unique_key, incremental_predicates) %}
  {%- set keys = sparklocal__unique_keys(unique_key) -%}
  {%- if not keys -%}
    {%- do exceptions.raise_compiler_error("The delete+insert strategy needs a unique_key") -%}
  {%- endif -%}
  {%- if incremental_predicates -%}
    {%- do exceptions.raise_compiler_error(
        "The local engine's delete+insert takes no incremental_predicates: drop them or use merge"
    ) -%}
  {%- endif -%}
  {%- set predicates = [] -%}
  {%- for key in keys -%}
    {%- do predicates.append('replaced.' ~ key ~ ' <=> DBT_INTERNAL_DEST.' ~ key) -%}
  {%- endfor -%}
  {%- call statement('delete_replaced_keys') -%}
    merge into {{ target }} as DBT_INTERNAL_DEST
    using (select distinct {{ keys | join(', ') }} from {{ source }}) as replaced
    on {{ predicates | join(' and ') }}
    when matched then delete
  {%- endcall -%}
  {%- set dest_columns = adapter.get_columns_in_relation(target) -%}
  insert into table {{ target }}
  select {{ dest_columns | map(attribute='quoted') | join(', ') }} from {{ source }}
{% endmacro %}
