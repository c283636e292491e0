{#
    Fails, with one row holding the mean, when the mean of the column's non-null values lies outside
    [min_value, max_value] (inclusive); a column with no value has no mean and passes. Either bound may be
    left out. Usage (column level):
        data_tests:
          - column_mean_between:
              arguments:
                min_value: 0.2
                max_value: 0.8
#}
{% test column_mean_between(model, column_name, min_value=none, max_value=none) %}

with

column_mean as (

    select avg({{ column_name }}) as mean_value
    from {{ model }}

),

final as (

    select * from column_mean
    where
        false
        {%- if min_value is not none %}
        or mean_value < {{ min_value }}
        {%- endif %}
        {%- if max_value is not none %}
        or mean_value > {{ max_value }}
        {%- endif %}

)

select * from final

{% endtest %}
