with eligibility_months as (

    select * from {{ ref('member_eligibility_months') }}

),

final as (

    select
        eligibility_months.month_start_date,
        eligibility_months.line_of_business,
        eligibility_months.product_code,
        eligibility_months.plan_id,
        count(distinct eligibility_months.member_key) as member_months
    from eligibility_months
    where eligibility_months.is_member_month
    group by
        eligibility_months.month_start_date,
        eligibility_months.line_of_business,
        eligibility_months.product_code,
        eligibility_months.plan_id

)

select * from final
