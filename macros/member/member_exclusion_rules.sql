{#
    Named rules that exclude a bronze roster row from silver, in the order they are checked
    (a row carries the first rule it breaks). member_roster_validated.exclusion_reason holds
    one of these, member_roster_deliveries counts them per file, and the accepted_values test
    on exclusion_reason reads the same list.
#}
{% macro member_exclusion_rules() -%}
    {{ return([
        'unrecognised_file_name',
        'invalid_date',
        'missing_value',
        'unknown_code',
        'coverage_end_before_start',
        'duplicate_row',
    ]) }}
{%- endmacro %}
