{#
    Fails on rows whose NPI is present but not ten digits with a valid Luhn check digit (CMS
    rule, card-issuer prefix 80840; see the is_valid_npi macro). NULL passes: pair with not_null
    where the NPI is required. Returns one row per failing NPI with its row count.
#}
{% test valid_npi(model, column_name) %}

    select
        {{ column_name }} as invalid_npi,
        count(*) as row_count
    from {{ model }}
    where
        {{ column_name }} is not null
        and not {{ is_valid_npi(column_name) }}
    group by {{ column_name }}

{% endtest %}
