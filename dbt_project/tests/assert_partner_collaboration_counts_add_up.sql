-- In every sector area x partner type, the answer categories add up to n_respondents,
-- and the counts match the labelled answers they come from.

with

partner_collaboration as (

    select * from {{ ref('partner_collaboration') }}

),

partner_answers as (

    select * from {{ ref('int_partner_answers_labelled') }}

),

cell_checks as (

    select
        'cell ' || sector_area_code || '/' || partner_type_code as check_name,
        n_respondents as n_found,
        n_always_or_often + n_sometimes + n_seldom + n_never + n_dont_know as n_expected

    from partner_collaboration
    where n_respondents <> n_always_or_often + n_sometimes + n_seldom + n_never + n_dont_know

),

total_checks as (

    select
        'n_respondents total' as check_name,
        (select sum(n_respondents) from partner_collaboration) as n_found,
        (
            select count(*) from partner_answers
            where is_latest_export and is_answered
        ) as n_expected

),

final as (

    select * from cell_checks

    union all

    select * from total_checks
    where n_found is distinct from n_expected

)

select * from final
