{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='roster_delivery_id',
        tblproperties={'delta.enableDeletionVectors': 'true'},
    )
}}

{#-
    One row per delivered roster file. member_roster_validated merges a delivery's rows in one
    run, so an incremental run aggregates only the deliveries it has not seen: their rows are
    complete. The lookback on ingested_at lets Delta skip the older files of the table.
-#}

with roster_rows as (

    select validated.*
    from {{ ref('member_roster_validated') }} as validated
    {% if is_incremental() %}
        where
            validated.ingested_at >= (
                select
                    coalesce(
                        max(known.ingested_at) - interval {{ var('member_lookback_days', 3) }} days,
                        timestamp '1900-01-01 00:00:00'
                    )
                from {{ this }} as known
            )
            and not exists (
                select 1
                from {{ this }} as known
                where
                    known.source_file = validated.source_file
                    and known.source_file_modified_at = validated.source_file_modified_at
            )
    {% endif %}

),

deliveries as (

    select
        sha2(
            concat(
                roster_rows.source_file,
                '|',
                cast(roster_rows.source_file_modified_at as string)
            ),
            256
        ) as roster_delivery_id,
        roster_rows.source_file,
        count(*) as bronze_row_count,
        count_if(roster_rows.exclusion_reason is null) as kept_row_count,
        count_if(roster_rows.exclusion_reason is not null) as excluded_row_count,
        {% for rule in member_exclusion_rules() %}
            count_if(roster_rows.exclusion_reason = '{{ rule }}') as {{ rule }}_row_count,
        {% endfor %}
        min(roster_rows.roster_month_start_date) as roster_month_start_date,
        roster_rows.source_file_modified_at,
        min(roster_rows.ingested_at) as ingested_at
    from roster_rows
    group by roster_rows.source_file, roster_rows.source_file_modified_at

)

select * from deliveries
