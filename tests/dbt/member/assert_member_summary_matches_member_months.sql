-- Fails on each month and plan whose member_months differ between the two gold models.
with member_months as (

    select * from {{ ref('member_months') }}

),

member_summary as (

    select * from {{ ref('member_summary') }}

),

compared as (

    select
        coalesce(member_months.month_start_date, member_summary.month_start_date)
            as month_start_date,
        coalesce(member_months.plan_id, member_summary.plan_id) as plan_id,
        member_months.member_months,
        member_summary.member_months as summary_member_months
    from member_months
    full outer join member_summary
        on
            member_months.month_start_date = member_summary.month_start_date
            and member_months.line_of_business = member_summary.line_of_business
            and member_months.product_code = member_summary.product_code
            and member_months.plan_id = member_summary.plan_id

),

final as (

    select compared.*
    from compared
    where coalesce(compared.member_months, 0) != coalesce(compared.summary_member_months, 0)

)

select * from final
