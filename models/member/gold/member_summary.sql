with eligibility_months as (

    select * from {{ ref('member_eligibility_months') }}

),

final as (

    select
        eligibility_months.month_start_date,
        eligibility_months.line_of_business,
        eligibility_months.product_code,
        eligibility_months.plan_id,
        count(
            distinct case
                when eligibility_months.is_member_month then eligibility_months.member_key
            end
        ) as member_months,
        {% for age_band in member_age_bands() %}
            count(
                distinct case
                    when
                        eligibility_months.is_member_month
                        and eligibility_months.age_band = '{{ age_band }}'
                        then eligibility_months.member_key
                end
            ) as member_months_age_{{ age_band | replace('-', '_') | replace('+', '_plus') }},
        {% endfor %}
        {% for gender in ['female', 'male', 'unknown'] %}
            count(
                distinct case
                    when
                        eligibility_months.is_member_month
                        and eligibility_months.gender = '{{ gender }}'
                        then eligibility_months.member_key
                end
            ) as member_months_gender_{{ gender }},
        {% endfor %}
        count(
            distinct case
                when eligibility_months.is_active_at_month_end then eligibility_months.member_key
            end
        ) as active_member_count,
        count(
            distinct case
                when eligibility_months.is_span_start_month then eligibility_months.member_key
            end
        ) as new_member_count,
        count(
            distinct case
                when eligibility_months.is_span_end_month then eligibility_months.member_key
            end
        ) as terminated_member_count
    from eligibility_months
    group by
        eligibility_months.month_start_date,
        eligibility_months.line_of_business,
        eligibility_months.product_code,
        eligibility_months.plan_id

)

select * from final
