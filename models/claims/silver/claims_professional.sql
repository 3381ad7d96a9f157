with claims_lines as (

    select * from {{ ref('claims_lines') }}

),

final as (

    select
        claims_lines.claim_line_id,
        claims_lines.claim_id,
        claims_lines.claim_version_id,
        claims_lines.member_key,
        claims_lines.claim_status,
        claims_lines.line_of_business,
        claims_lines.product_code,
        claims_lines.plan_id,
        claims_lines.billing_npi,
        claims_lines.rendering_npi,
        claims_lines.principal_diagnosis_code,
        claims_lines.diagnosis_codes,
        claims_lines.procedure_code,
        claims_lines.line_number,
        claims_lines.units,
        claims_lines.billed_amount,
        claims_lines.allowed_amount,
        claims_lines.paid_amount,
        claims_lines.is_valid_billing_npi,
        claims_lines.is_valid_rendering_npi,
        claims_lines.is_within_eligibility,
        claims_lines.service_from_date,
        claims_lines.service_to_date,
        claims_lines.service_date,
        claims_lines.received_date
    from claims_lines
    where claims_lines.claim_type = 'professional'

)

select * from final
