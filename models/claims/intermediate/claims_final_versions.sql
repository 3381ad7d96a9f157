{{
    config(
        materialized='incremental',
        incremental_strategy='merge',
        unique_key='claim_id',
        tblproperties={'delta.enableDeletionVectors': 'true'},
        on_schema_change='append_new_columns',
    )
}}

{#-
    Incremental runs re-resolve only the claims that received a version since the last run,
    over all of those claims' versions, so the result equals a full rebuild: a claim's final
    version depends on its own versions and nothing else.
-#}

with claims_versions as (

    select * from {{ ref('claims_versions') }}

),

candidate_versions as (

    select * from claims_versions
    {% if is_incremental() %}
        where
            claims_versions.claim_id in (
                select changed.claim_id
                from claims_versions as changed
                where
                    changed.ingested_at > (
                        select
                            coalesce(
                                max(resolved.last_ingested_at),
                                timestamp '1900-01-01 00:00:00'
                            )
                        from {{ this }} as resolved
                    )
            )
    {% endif %}

),

ranked_versions as (

    select
        candidate_versions.*,
        row_number() over (
            partition by candidate_versions.claim_id
            order by
                candidate_versions.claim_version desc,
                candidate_versions.received_date desc nulls last,
                candidate_versions.ingested_at desc,
                candidate_versions.claim_version_id desc
        ) as version_rank,
        count(*) over (partition by candidate_versions.claim_id) as version_count,
        max(candidate_versions.ingested_at) over (
            partition by candidate_versions.claim_id
        ) as last_ingested_at
    from candidate_versions

),

final as (

    select
        ranked_versions.claim_id,
        ranked_versions.claim_version_id,
        ranked_versions.member_key,
        ranked_versions.adjustment_type,
        ranked_versions.claim_type,
        ranked_versions.claim_status,
        ranked_versions.billing_npi,
        ranked_versions.rendering_npi,
        ranked_versions.principal_diagnosis_code,
        ranked_versions.diagnosis_codes,
        ranked_versions.service_lines,
        ranked_versions.claim_version,
        cast(ranked_versions.version_count as int) as version_count,
        ranked_versions.adjustment_type = 'REVERSAL' as is_reversed,
        ranked_versions.is_valid_billing_npi,
        ranked_versions.is_valid_rendering_npi,
        ranked_versions.service_from_date,
        ranked_versions.service_to_date,
        ranked_versions.received_date,
        ranked_versions.last_ingested_at
    from ranked_versions
    where ranked_versions.version_rank = 1

)

select * from final
