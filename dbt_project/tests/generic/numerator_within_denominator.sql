{#
    Fails for every row whose numerator is negative or larger than its denominator (a share's parts).
    Usage (model level):
        data_tests:
          - numerator_within_denominator:
              arguments:
                numerator: n_category
                denominator: n_valid
#}
{% test numerator_within_denominator(model, numerator, denominator) %}

select * from {{ model }}
where
    {{ numerator }} < 0
    or {{ numerator }} > {{ denominator }} + 1e-9

{% endtest %}
