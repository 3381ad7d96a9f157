{#
    Fails on ICD-10-CM codes that are not in the normalised shape (upper case, no dot: E119,
    S93401A). The column is a code, or with is_array=true an array of codes, where any element
    out of shape (or NULL) fails the row. NULL columns pass.
#}
{% test icd10_shape(model, column_name, is_array=false) %}

    select {{ column_name }} as invalid_codes
    from {{ model }}
    {%- if is_array %}
    where size(filter({{ column_name }}, code -> code is null or not code rlike {{ icd10_pattern() }})) > 0
    {%- else %}
    where {{ column_name }} is not null and not {{ column_name }} rlike {{ icd10_pattern() }}
    {%- endif %}

{% endtest %}
