with claims_medical as (

    select * from {{ ref('claims_medical') }}

),

claims_professional as (

    select * from {{ ref('claims_professional') }}

),

claims_pharmacy as (

    select * from {{ ref('claims_pharmacy') }}

),

member_months as (

    select * from {{ ref('member_months') }}

),

claim_lines as (

    select
        'institutional' as claim_type,
        claims_medical.claim_id,
        claims_medical.claim_status,
        claims_medical.line_of_business,
        claims_medical.product_code,
        claims_medical.billed_amount,
        claims_medical.allowed_amount,
        claims_medical.paid_amount,
        claims_medical.service_from_date
    from claims_medical

    union all

    select
        'professional' as claim_type,
        claims_professional.claim_id,
        claims_professional.claim_status,
        claims_professional.line_of_business,
        claims_professional.product_code,
        claims_professional.billed_amount,
        claims_professional.allowed_amount,
        claims_professional.paid_amount,
        claims_professional.service_from_date
    from claims_professional

    union all

    select
        'pharmacy' as claim_type,
        claims_pharmacy.claim_id,
        claims_pharmacy.claim_status,
        claims_pharmacy.line_of_business,
        claims_pharmacy.product_code,
        claims_pharmacy.billed_amount,
        claims_pharmacy.allowed_amount,
        claims_pharmacy.paid_amount,
        claims_pharmacy.fill_date as service_from_date
    from claims_pharmacy

),

monthly_claims as (

    select
        trunc(claim_lines.service_from_date, 'MM') as service_month_start_date,
        claim_lines.claim_type,
        claim_lines.line_of_business,
        claim_lines.product_code,
        count(distinct claim_lines.claim_id) as claim_count,
        count(distinct case when claim_lines.claim_status = 'paid' then claim_lines.claim_id end)
            as paid_claim_count,
        count(
            distinct case when claim_lines.claim_status = 'denied' then claim_lines.claim_id end
        ) as denied_claim_count,
        count(
            distinct case when claim_lines.claim_status = 'pending' then claim_lines.claim_id end
        ) as pending_claim_count,
        count(*) as line_count,
        sum(claim_lines.billed_amount) as billed_amount,
        sum(claim_lines.allowed_amount) as allowed_amount,
        sum(claim_lines.paid_amount) as paid_amount
    from claim_lines
    group by
        trunc(claim_lines.service_from_date, 'MM'),
        claim_lines.claim_type,
        claim_lines.line_of_business,
        claim_lines.product_code

),

product_member_months as (

    select
        member_months.month_start_date,
        member_months.line_of_business,
        member_months.product_code,
        sum(member_months.member_months) as member_months
    from member_months
    group by
        member_months.month_start_date,
        member_months.line_of_business,
        member_months.product_code

),

final as (

    select
        monthly_claims.claim_type,
        monthly_claims.line_of_business,
        monthly_claims.product_code,
        cast(monthly_claims.claim_count as bigint) as claim_count,
        cast(monthly_claims.paid_claim_count as bigint) as paid_claim_count,
        cast(monthly_claims.denied_claim_count as bigint) as denied_claim_count,
        cast(monthly_claims.pending_claim_count as bigint) as pending_claim_count,
        cast(monthly_claims.line_count as bigint) as line_count,
        cast(monthly_claims.billed_amount as decimal(18, 2)) as billed_amount,
        cast(monthly_claims.allowed_amount as decimal(18, 2)) as allowed_amount,
        cast(monthly_claims.paid_amount as decimal(18, 2)) as paid_amount,
        cast(coalesce(product_member_months.member_months, 0) as bigint) as member_months,
        cast(
            round(
                monthly_claims.paid_amount
                / nullif(coalesce(product_member_months.member_months, 0), 0),
                2
            ) as decimal(18, 2)
        ) as pmpm_paid_amount,
        cast(
            round(
                cast(monthly_claims.denied_claim_count as decimal(20, 0))
                / nullif(monthly_claims.paid_claim_count + monthly_claims.denied_claim_count, 0),
                4
            ) as decimal(5, 4)
        ) as denial_rate,
        monthly_claims.service_month_start_date
    from monthly_claims
    left join product_member_months
        on
            monthly_claims.service_month_start_date = product_member_months.month_start_date
            and monthly_claims.line_of_business = product_member_months.line_of_business
            and monthly_claims.product_code = product_member_months.product_code

)

select * from final
