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
        claims_lines.billing_npi as pharmacy_npi,
        claims_lines.rendering_npi as prescriber_npi,
        claims_lines.ndc,
        claims_lines.line_number,
        claims_lines.units as dispensed_quantity,
        claims_lines.billed_amount,
        claims_lines.allowed_amount,
        claims_lines.paid_amount,
        claims_lines.is_valid_billing_npi as is_valid_pharmacy_npi,
        claims_lines.is_valid_rendering_npi as is_valid_prescriber_npi,
        claims_lines.is_within_eligibility,
        claims_lines.service_from_date as fill_date,
        claims_lines.received_date
    from claims_lines
    where claims_lines.claim_type = 'pharmacy'

)

select * from final
