{#
    Fails for every non-null value outside [min_value, max_value] (inclusive).
    Either bound may be left out. Usage (column level):
        data_tests:
          - accepted_range:
              arguments:
                min_value: 0
                max_value: 1
#}
{% test accepted_range(model, column_name, min_value=none, max_value=none) %}

with

validation as (

    select {{ column_name }} as tested_value
    from {{ model }}
    where {{ column_name }} is not null

),

final as (

    select * from validation
    where
        false
        {%- if min_value is not none %}
        or tested_value < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or tested_value > {{ max_value }}
        {%- endif %}

)

select * from final

{% endtest %}
