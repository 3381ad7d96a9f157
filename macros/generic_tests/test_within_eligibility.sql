{#
    Warns on rows whose date (the tested column) falls in no eligibility span of their member:
    services outside coverage, or members the eligibility model does not know. A finding to
    review, not a build stopper: severity warn, and the failing rows are stored (schema ua).

    eligibility: the spans relation, e.g. ref('member_eligibility'), one row per member span
    with inclusive start and end dates, end NULL while open. Column names are arguments.
#}
{% test within_eligibility(
    model,
    column_name,
    eligibility,
    member_key_column='member_key',
    start_date_column='eligibility_start_date',
    end_date_column='eligibility_end_date',
    key_columns=[]
) %}

    {{ config(severity='warn', store_failures=true) }}

    with tested as (

        select * from {{ model }}

    )

    select
        {%- for key_column in key_columns %}
        tested.{{ key_column }},
        {%- endfor %}
        tested.{{ member_key_column }},
        tested.{{ column_name }}
    from tested
    where
        tested.{{ column_name }} is not null
        and not exists (
            select 1
            from {{ eligibility }} as eligibility
            where
                eligibility.{{ member_key_column }} = tested.{{ member_key_column }}
                and tested.{{ column_name }} >= eligibility.{{ start_date_column }}
                and (
                    eligibility.{{ end_date_column }} is null
                    or tested.{{ column_name }} <= eligibility.{{ end_date_column }}
                )
        )

{% endtest %}
