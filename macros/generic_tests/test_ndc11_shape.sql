{#
    Fails on NDCs that are not in the 11-digit 5-4-2 billing form with hyphens (00093-1048-01).
    NULL passes: pair with not_null where the NDC is required.
#}
{% test ndc11_shape(model, column_name) %}

    select {{ column_name }} as invalid_ndc
    from {{ model }}
    where {{ column_name }} is not null and not {{ column_name }} rlike {{ ndc11_pattern() }}

{% endtest %}
