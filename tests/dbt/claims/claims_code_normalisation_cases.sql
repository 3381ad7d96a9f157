{#
    The claims code macros on known cases: NDC to the 11-digit 5-4-2 form (each 10-digit
    layout gets its zero back, ambiguous or malformed codes become NULL), ICD-10 without dots
    in upper case, and the NPI Luhn check with the 80840 prefix (1234567893 is CMS's example).
    Returns the cases whose result differs from the expected one.
#}

with cases as (

    select
        cases.code_system,
        cases.raw_code,
        cases.expected_code
    from
        values
        ('ndc', '00093-1048-01', '00093-1048-01'),
        ('ndc', '00093104801', '00093-1048-01'),
        ('ndc', ' 0093-1048-01 ', '00093-1048-01'),
        ('ndc', '16729-020-01', '16729-0020-01'),
        ('ndc', '68180-0513-9', '68180-0513-09'),
        ('ndc', '0093104801', cast(null as string)),
        ('ndc', '093-1048-01', cast(null as string)),
        ('ndc', '0093-104-01', cast(null as string)),
        ('ndc', 'ABCDE-1048-01', cast(null as string)),
        ('icd10', 'E11.9', 'E119'),
        ('icd10', 'e11.9', 'E119'),
        ('icd10', ' s93.401a ', 'S93401A'),
        ('icd10', '', cast(null as string)),
        ('npi', '1234567893', 'true'),
        ('npi', '1234567890', 'false'),
        ('npi', '123456789', 'false'),
        ('npi', '12345678a3', 'false'),
        ('npi', cast(null as string), 'false')
            as cases (code_system, raw_code, expected_code)

),

results as (

    select
        cases.code_system,
        cases.raw_code,
        cases.expected_code,
        case cases.code_system
            when 'ndc' then {{ normalize_ndc11('cases.raw_code') }}
            when 'icd10' then {{ normalize_icd10('cases.raw_code') }}
            when 'npi' then cast({{ is_valid_npi('cases.raw_code') }} as string)
        end as actual_code
    from cases

),

mismatches as (

    select results.* from results
    where
        not coalesce(
            results.actual_code = results.expected_code,
            results.actual_code is null and results.expected_code is null
        )

)

select * from mismatches
