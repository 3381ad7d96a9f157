{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='claim_version_id',
        tblproperties={'delta.enableDeletionVectors': 'true'},
        on_schema_change='append_new_columns',
    )
}}

with claims_raw as (

    select * from {{ source('claims_bronze', 'claims_raw') }}
    {% if is_incremental() %}
        where
            _ingested_at > (
                select coalesce(max(loaded.ingested_at), timestamp '1900-01-01 00:00:00')
                from {{ this }} as loaded
            )
    {% endif %}

),

ranked_deliveries as (

    select
        claims_raw.*,
        row_number() over (
            partition by claims_raw.claim_id
            order by
                claims_raw._ingested_at desc,
                claims_raw._source_file_modified_at desc,
                claims_raw._source_file desc
        ) as delivery_rank
    from claims_raw

),

latest_deliveries as (

    select ranked_deliveries.* from ranked_deliveries
    where ranked_deliveries.delivery_rank = 1

),

normalised as (

    select
        latest_deliveries.claim_id as claim_version_id,
        coalesce(
            nullif(trim(latest_deliveries.original_claim_id), ''), latest_deliveries.claim_id
        ) as claim_id,
        {{ hash_identifier('latest_deliveries.member_id') }} as member_key,
        upper(trim(latest_deliveries.adjustment_type)) as adjustment_type,
        case lower(trim(latest_deliveries.claim_type))
            when 'institutional' then 'institutional'
            when '837i' then 'institutional'
            when 'professional' then 'professional'
            when '837p' then 'professional'
            when 'pharmacy' then 'pharmacy'
            when 'ncpdp' then 'pharmacy'
            else 'unknown'
        end as claim_type,
        case lower(trim(latest_deliveries.claim_status))
            when 'paid' then 'paid'
            when 'denied' then 'denied'
            when 'pending' then 'pending'
            when 'pend' then 'pending'
            else 'unknown'
        end as claim_status,
        trim(latest_deliveries.billing_npi) as billing_npi,
        trim(latest_deliveries.rendering_npi) as rendering_npi,
        filter(
            transform(
                coalesce(latest_deliveries.diagnosis_codes, array()),
                diagnosis_code -> {{ normalize_icd10('diagnosis_code') }}
            ),
            diagnosis_code -> diagnosis_code is not null
        ) as diagnosis_codes,
        transform(
            latest_deliveries.lines,
            service_line -> named_struct(
                'line_number', service_line.line_number,
                'procedure_code', nullif(upper(trim(service_line.procedure_code)), ''),
                'ndc', {{ normalize_ndc11('service_line.ndc') }},
                'units', service_line.units,
                'service_date', service_line.service_date,
                'billed_amount', cast(service_line.billed_amount as decimal(12, 2)),
                'allowed_amount', cast(service_line.allowed_amount as decimal(12, 2)),
                'paid_amount', cast(service_line.paid_amount as decimal(12, 2))
            )
        ) as service_lines,
        latest_deliveries.claim_version,
        {{ is_valid_npi('trim(latest_deliveries.billing_npi)') }} as is_valid_billing_npi,
        {{ is_valid_npi('trim(latest_deliveries.rendering_npi)') }} as is_valid_rendering_npi,
        coalesce(
            latest_deliveries.service_from_date,
            array_min(transform(latest_deliveries.lines, service_line -> service_line.service_date))
        ) as service_from_date,
        coalesce(
            latest_deliveries.service_to_date,
            array_max(transform(latest_deliveries.lines, service_line -> service_line.service_date))
        ) as service_to_date,
        latest_deliveries.received_date,
        latest_deliveries._source_file as source_file,
        latest_deliveries._ingest_run_id as ingest_run_id,
        latest_deliveries._ingested_at as ingested_at
    from latest_deliveries

),

final as (

    select
        normalised.claim_version_id,
        normalised.claim_id,
        normalised.member_key,
        normalised.adjustment_type,
        normalised.claim_type,
        normalised.claim_status,
        normalised.billing_npi,
        normalised.rendering_npi,
        try_element_at(normalised.diagnosis_codes, 1) as principal_diagnosis_code,
        normalised.diagnosis_codes,
        normalised.service_lines,
        normalised.claim_version,
        normalised.is_valid_billing_npi,
        normalised.is_valid_rendering_npi,
        normalised.service_from_date,
        normalised.service_to_date,
        normalised.received_date,
        normalised.source_file,
        normalised.ingest_run_id,
        normalised.ingested_at
    from normalised

)

select * from final
