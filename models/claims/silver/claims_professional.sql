{{ claim_type_lines('professional', medical_line_columns()) }}
