-- Every answer code must belong to the scale of its questionnaire variable:
-- increased_focus and written_policy 1, 2, 9; partner_frequency 1-4, 9; motive 0, 1.

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

answers_with_concept as (

    select
        answers.export_id,
        answers.respondent_id,
        answers.variable_name,
        answers.answer_code,
        item_map.concept

    from answers
    inner join item_map
        on answers.variable_name = item_map.variable_name
    where answers.answer_code is not null

),

final as (

    select * from answers_with_concept
    where
        (concept in ('increased_focus', 'written_policy') and answer_code not in (1, 2, 9))
        or (concept = 'partner_frequency' and answer_code not in (1, 2, 3, 4, 9))
        or (concept = 'motive' and answer_code not in (0, 1))

)

select * from final
