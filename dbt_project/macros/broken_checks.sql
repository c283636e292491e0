{#
    The query of the platform's one-query tests (column_bounds, references): one row per check that some
    rows of `model` break, with the check in words and how many rows, never a value. `checks` is a list
    of (words, condition) pairs; a row breaks a check where its condition is true.
#}

{% macro broken_checks(model, checks) %}

with

broken_rows as (

    select
        {%- for words, condition in checks %}
        count(*) filter (where {{ condition }}) as "{{ words }}"{{ "," if not loop.last }}
        {%- endfor %}
    from {{ model }}

),

{{ checks_of_broken_rows() }}

{% endmacro %}


{#
    The end of every one-query test (broken_checks above, required_and_unique): after a CTE `broken_rows`
    of one row, a column per check named by its words and holding how many rows break it, one row per
    check that some rows break.
#}

{% macro checks_of_broken_rows() %}

by_check as (

    unpivot broken_rows
    on columns(*)
    into name check_name value n_rows

),

final as (

    select check_name, n_rows
    from by_check
    where n_rows > 0

)

select * from final

{% endmacro %}
