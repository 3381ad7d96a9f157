{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='roster_row_id',
        tblproperties={'delta.enableDeletionVectors': 'true'},
    )
}}

with member_raw as (

    select * from {{ source('member_bronze', 'member_raw') }}

),

{% if is_incremental() %}

    processed_deliveries as (

        select distinct
            this_model.source_file,
            this_model.source_file_modified_at,
            this_model.ingested_at
        from {{ this }} as this_model

    ),

{% endif %}

new_rows as (

    -- Incremental runs take the deliveries not merged yet; the lookback on _ingested_at lets
    -- Delta skip old files and still catches a delivery committed after a later run began.
    select member_raw.*
    from member_raw
    {% if is_incremental() %}
        where
            member_raw._ingested_at >= (
                select
                    coalesce(
                        max(processed_deliveries.ingested_at)
                        - interval {{ var('member_lookback_days', 3) }} days,
                        timestamp '1900-01-01 00:00:00'
                    )
                from processed_deliveries
            )
            and not exists (
                select 1
                from processed_deliveries
                where
                    processed_deliveries.source_file = member_raw._source_file
                    and processed_deliveries.source_file_modified_at
                    = member_raw._source_file_modified_at
            )
    {% endif %}

),

standardised as (

    select
        new_rows.member_id,
        new_rows._source_file as source_file,
        new_rows._ingest_run_id as ingest_run_id,
        case
            when upper(trim(new_rows.relationship_code)) in ('SUB', 'SELF', 'SUBSCRIBER')
                then 'subscriber'
            when upper(trim(new_rows.relationship_code)) in ('SPS', 'SPOUSE') then 'spouse'
            when upper(trim(new_rows.relationship_code)) in ('DEP', 'CHILD', 'DEPENDENT')
                then 'dependent'
        end as relationship,
        case
            when upper(trim(new_rows.gender_code)) in ('F', 'FEMALE') then 'female'
            when upper(trim(new_rows.gender_code)) in ('M', 'MALE') then 'male'
            when upper(trim(new_rows.gender_code)) in ('U', 'UNKNOWN') then 'unknown'
        end as gender,
        -- `state` is the contract's column name, a keyword to sqlfluff's sparksql dialect.
        case
            when trim(new_rows.state) rlike '^[A-Za-z]{2}$' then upper(trim(new_rows.state))
        end as state,  -- noqa: RF04
        case
            when trim(new_rows.zip5) rlike '^[0-9]{5}$' then left(trim(new_rows.zip5), 3)
        end as zip3,
        case
            when upper(trim(new_rows.line_of_business)) = 'COMMERCIAL' then 'commercial'
            when upper(trim(new_rows.line_of_business)) in ('MEDICARE_ADVANTAGE', 'MA')
                then 'medicare_advantage'
            when upper(trim(new_rows.line_of_business)) = 'MEDICAID' then 'medicaid'
        end as line_of_business,
        case
            when upper(trim(new_rows.product_code)) in ('HMO', 'PPO', 'EPO', 'POS', 'HDHP', 'SNP')
                then upper(trim(new_rows.product_code))
        end as product_code,
        nullif(upper(trim(new_rows.plan_id)), '') as plan_id,
        year(new_rows.birth_date) as birth_year,
        nullif(trim(new_rows.member_id), '') is null
        or nullif(trim(new_rows.subscriber_id), '') is null
        or nullif(trim(new_rows.plan_id), '') is null as has_missing_value,
        new_rows.birth_date is null
        or new_rows.coverage_start_date is null
        or new_rows.record_updated_at is null
        or get_json_object(new_rows._rescued_data, '$.birth_date') is not null
        or get_json_object(new_rows._rescued_data, '$.coverage_start_date') is not null
        or get_json_object(new_rows._rescued_data, '$.coverage_end_date') is not null
        or get_json_object(new_rows._rescued_data, '$.record_updated_at') is not null
            as has_invalid_date,
        new_rows.coverage_start_date,
        new_rows.coverage_end_date,
        try_cast(
            regexp_replace(
                regexp_extract(new_rows._source_file, 'roster_[0-9]{4}_[0-9]{2}[.][a-z]+$', 0),
                '^roster_([0-9]{4})_([0-9]{2})[.].*$',
                '$1-$2-01'
            ) as date
        ) as roster_month_start_date,
        new_rows.record_updated_at,
        new_rows._source_file_modified_at as source_file_modified_at,
        new_rows._ingested_at as ingested_at,
        {{ hash_identifier('new_rows.member_id') }} as member_key,
        case
            when nullif(trim(new_rows.subscriber_id), '') is not null
                then {{ hash_identifier('new_rows.subscriber_id') }}
        end as subscriber_key,
        sha2(to_json(struct(new_rows.*)), 256) as row_hash
    from new_rows

),

classified as (

    select
        standardised.*,
        case
            when standardised.roster_month_start_date is null then 'unrecognised_file_name'
            when standardised.has_invalid_date then 'invalid_date'
            when standardised.has_missing_value then 'missing_value'
            when
                standardised.relationship is null
                or standardised.gender is null
                or standardised.line_of_business is null
                or standardised.product_code is null
                then 'unknown_code'
            when standardised.coverage_end_date < standardised.coverage_start_date
                then 'coverage_end_before_start'
        end as content_exclusion_reason,
        row_number() over (
            partition by standardised.row_hash
            order by standardised.row_hash
        ) as row_hash_occurrence
    from standardised

),

ranked_in_file as (

    select
        classified.*,
        row_number() over (
            partition by
                classified.source_file,
                classified.source_file_modified_at,
                classified.member_key,
                classified.content_exclusion_reason
            order by classified.record_updated_at desc, classified.row_hash desc
        ) as file_member_rank
    from classified

),

final as (

    select
        sha2(
            concat(
                ranked_in_file.row_hash,
                '|',
                cast(ranked_in_file.row_hash_occurrence as string)
            ),
            256
        ) as roster_row_id,
        ranked_in_file.member_key,
        ranked_in_file.subscriber_key,
        ranked_in_file.ingest_run_id,
        ranked_in_file.source_file,
        ranked_in_file.relationship,
        ranked_in_file.gender,
        ranked_in_file.state,
        ranked_in_file.zip3,
        ranked_in_file.line_of_business,
        ranked_in_file.product_code,
        ranked_in_file.plan_id,
        coalesce(
            ranked_in_file.content_exclusion_reason,
            case when ranked_in_file.file_member_rank > 1 then 'duplicate_row' end
        ) as exclusion_reason,
        ranked_in_file.birth_year,
        ranked_in_file.coverage_start_date,
        ranked_in_file.coverage_end_date,
        ranked_in_file.roster_month_start_date,
        ranked_in_file.record_updated_at,
        ranked_in_file.source_file_modified_at,
        ranked_in_file.ingested_at
    from ranked_in_file

)

select * from final
