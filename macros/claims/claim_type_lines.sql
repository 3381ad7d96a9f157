{#
    The final-version lines of one claim type (claims_lines.claim_type), with the given
    columns of claims_lines: each a column name, optionally followed by "as <new name>".
    claims_medical, claims_pharmacy and claims_professional are this split of claims_lines.
#}
{% macro claim_type_lines(claim_type, columns) -%}
    with claims_lines as (

        select * from {{ ref('claims_lines') }}

    ),

    final as (

        select
            {%- for column in columns %}
                claims_lines.{{ column }}{{ "," if not loop.last }}
            {%- endfor %}
        from claims_lines
        where claims_lines.claim_type = '{{ claim_type }}'

    )

    select * from final
{%- endmacro %}

{#- The columns claims_medical and claims_professional keep (the same for both). -#}
{% macro medical_line_columns() -%}
    {{ return([
        "claim_line_id", "claim_id", "claim_version_id", "member_key", "claim_status",
        "line_of_business", "product_code", "plan_id", "billing_npi", "rendering_npi",
        "principal_diagnosis_code", "diagnosis_codes", "procedure_code", "line_number", "units",
        "billed_amount", "allowed_amount", "paid_amount", "is_valid_billing_npi",
        "is_valid_rendering_npi", "is_within_eligibility", "service_from_date",
        "service_to_date", "service_date", "received_date"
    ]) }}
{%- endmacro %}
