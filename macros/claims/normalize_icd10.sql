{#
    ICD-10-CM code as billed (E11.9, E119, e11.9, " e11.9 ") -> E119: upper case, without the
    dot or any other separator. Empty text becomes NULL; the shape itself is checked by the
    icd10_shape test, not here, so a malformed code stays visible instead of vanishing.
#}
{% macro normalize_icd10(expression) -%}
    nullif(upper(regexp_replace({{ expression }}, '[^0-9A-Za-z]', '')), '')
{%- endmacro %}
