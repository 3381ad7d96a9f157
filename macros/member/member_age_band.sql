{#
    Age band of an age in whole years: 00-17, 18-34, 35-49, 50-64, 65+ (NULL for a NULL age).
    Members' ages are calendar-year ages (year of the reference date minus birth year), as
    silver keeps the birth year only.
#}
{% macro member_age_band(age) -%}
    case
        when {{ age }} < 18 then '00-17'
        when {{ age }} < 35 then '18-34'
        when {{ age }} < 50 then '35-49'
        when {{ age }} < 65 then '50-64'
        when {{ age }} >= 65 then '65+'
    end
{%- endmacro %}

{% macro member_age_bands() -%}
    {{ return(['00-17', '18-34', '35-49', '50-64', '65+']) }}
{%- endmacro %}
