{#
    Shapes of normalised claim codes, shared by the normalisation macros and the generic tests
    so a code that silver writes is exactly a code the tests accept. Character classes only (no
    backslash escapes), which read the same in Spark SQL and Databricks SQL string literals.
#}

{#- ICD-10-CM without the dot, upper case: letter, digit, alphanumeric, then up to 4 more (E119, S93401A). -#}
{% macro icd10_pattern() -%}
    '^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$'
{%- endmacro %}

{#- NDC in the 11-digit 5-4-2 billing form, hyphenated (00093-1048-01). -#}
{% macro ndc11_pattern() -%}
    '^[0-9]{5}-[0-9]{4}-[0-9]{2}$'
{%- endmacro %}

{#- NPI: exactly ten ASCII digits (the check digit is verified by is_valid_npi). -#}
{% macro npi_pattern() -%}
    '^[0-9]{10}$'
{%- endmacro %}
