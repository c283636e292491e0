{#
    The answers of every responding head (the counted record of a head whose status is a response), read
    through the study mapping: each answer tied to its wave's concept, item, answer scale and collaboration
    slot, its code turned into the harmonised answer category, with the head's weight.
    A code that is not on its scale is kept with answer_category null (assert_answer_codes_within_scale
    fails the build on it). Unmapped variables (open text, system variables) do not appear.
    Grain: one row per wave, head and mapped variable with an answer.
#}

with

answers as (

    select * from {{ ref('stg_survey__answers') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

weights as (

    select * from {{ ref('int_survey_weights') }}

),

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

concepts as (

    select * from {{ ref('stg_reference__study_concepts') }}

),

answer_scales as (

    select * from {{ ref('stg_reference__answer_scales') }}

),

responding_heads as (

    select * from heads
    where is_answering

),

mapped as (

    select
        responding_heads.wave_id,
        responding_heads.municipality_code,
        responding_heads.sector_area_code,
        responding_heads.respondent_pseudonym,
        responding_heads.is_completed,
        item_map.concept,
        concepts.level,
        concepts.item_list,
        item_map.item_code,
        item_map.collaboration_slot,
        item_map.variable_name,
        item_map.scale_id,
        answers.answer_code

    from answers
    inner join responding_heads
        on
            answers.export_id = responding_heads.export_id
            and answers.respondent_id = responding_heads.respondent_id
    inner join item_map
        on
            responding_heads.wave_id = item_map.wave_id
            and answers.variable_name = item_map.variable_name
    inner join concepts
        on item_map.concept = concepts.concept

),

final as (

    select
        -- ids
        mapped.wave_id,
        mapped.municipality_code,
        mapped.sector_area_code,
        mapped.respondent_pseudonym,
        mapped.concept,
        mapped.item_code,
        mapped.collaboration_slot,

        -- what was asked
        mapped.level,
        mapped.item_list,
        mapped.variable_name,
        mapped.scale_id,

        -- the answer
        mapped.answer_code,
        answer_scales.answer_label_da,
        answer_scales.answer_label_en,
        answer_scales.answer_category,
        coalesce(answer_scales.is_dont_know, false) as is_dont_know,
        answer_scales.answer_code is not null as is_on_scale,

        -- the head
        mapped.is_completed as is_respondent_completed,
        weights.weight

    from mapped
    left join answer_scales
        on
            mapped.scale_id = answer_scales.scale_id
            and mapped.answer_code = answer_scales.answer_code
    left join weights
        on
            mapped.wave_id = weights.wave_id
            and mapped.municipality_code = weights.municipality_code
            and mapped.sector_area_code = weights.sector_area_code

)

select * from final
