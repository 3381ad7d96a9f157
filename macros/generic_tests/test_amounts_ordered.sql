{#
    Fails on rows that break paid <= allowed <= billed, or lack any of the three amounts.
    A model-level test: the three column names are arguments (defaults: paid_amount,
    allowed_amount, billed_amount), and key_columns are returned with the amounts so a stored
    failure points at the offending row.
#}
{% test amounts_ordered(
    model,
    paid_column='paid_amount',
    allowed_column='allowed_amount',
    billed_column='billed_amount',
    key_columns=[]
) %}

    select
        {%- for key_column in key_columns %}
        {{ key_column }},
        {%- endfor %}
        {{ paid_column }},
        {{ allowed_column }},
        {{ billed_column }}
    from {{ model }}
    where not coalesce(
        {{ paid_column }} <= {{ allowed_column }} and {{ allowed_column }} <= {{ billed_column }},
        false
    )

{% endtest %}
