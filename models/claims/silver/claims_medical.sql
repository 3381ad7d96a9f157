{{ claim_type_lines('institutional', medical_line_columns()) }}
