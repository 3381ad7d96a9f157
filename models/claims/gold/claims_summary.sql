with claims_lines as (

    select * from {{ ref('claims_lines') }}

),

member_months as (

    select * from {{ ref('member_months') }}

),

monthly_claims as (

    select
        trunc(claims_lines.service_from_date, 'MM') as service_month_start_date,
        claims_lines.claim_type,
        claims_lines.line_of_business,
        claims_lines.product_code,
        count(distinct claims_lines.claim_id) as claim_count,
        count(distinct case when claims_lines.claim_status = 'paid' then claims_lines.claim_id end)
            as paid_claim_count,
        count(
            distinct case when claims_lines.claim_status = 'denied' then claims_lines.claim_id end
        ) as denied_claim_count,
        count(
            distinct case when claims_lines.claim_status = 'pending' then claims_lines.claim_id end
        ) as pending_claim_count,
        count(*) as line_count,
        sum(claims_lines.billed_amount) as billed_amount,
        sum(claims_lines.allowed_amount) as allowed_amount,
        sum(claims_lines.paid_amount) as paid_amount
    from claims_lines
    -- The claim types of the three claim line tables; an unmapped raw type stays in silver.
    where claims_lines.claim_type in ('institutional', 'professional', 'pharmacy')
    group by
        trunc(claims_lines.service_from_date, 'MM'),
        claims_lines.claim_type,
        claims_lines.line_of_business,
        claims_lines.product_code

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
