{#
    Every answer of every responding head, labelled, for analysts' own cross-tabulations: the counted
    record of each head (resubmission rule), read through the study mapping, with the head's
    municipality, region, municipality group, sector area and non-response weight. The respondent is a
    keyed pseudonym; open text and identifiers stay in raw.
#}

with

answers as (

    select * from {{ ref('int_survey_answers_mapped') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

study_concepts as (

    select * from {{ ref('stg_reference__study_concepts') }}

),

study_items as (

    select * from {{ ref('stg_reference__study_items') }}

),

answer_categories as (

    select * from {{ ref('stg_reference__answer_categories') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

final as (

    select
        -- grain
        answers.wave_id,
        answers.respondent_pseudonym,
        answers.variable_name,

        -- the head
        answers.municipality_code,
        heads.municipality_name,
        heads.region_code,
        heads.region_name,
        heads.municipality_group_code,
        heads.municipality_group_name,
        answers.sector_area_code,
        sector_areas.sector_area_name_da,
        sector_areas.sector_area_name_en,
        answers.is_respondent_completed,
        answers.weight,

        -- the question
        answers.concept,
        study_concepts.concept_name_da,
        study_concepts.question_da,
        answers.item_code,
        study_items.item_name_da,
        study_items.item_name_en,
        answers.collaboration_slot,

        -- the answer
        answers.scale_id,
        answers.answer_code,
        answers.answer_label_da,
        answers.answer_label_en,
        answers.answer_category,
        answer_categories.answer_category_name_da,
        answers.is_dont_know,
        answers.is_on_scale

    from answers
    inner join heads
        on
            answers.wave_id = heads.wave_id
            and answers.municipality_code = heads.municipality_code
            and answers.sector_area_code = heads.sector_area_code
    inner join study_concepts
        on answers.concept = study_concepts.concept
    inner join sector_areas
        on answers.sector_area_code = sector_areas.sector_area_code
    left join study_items
        on
            answers.item_list = study_items.item_list
            and answers.item_code = study_items.item_code
    left join answer_categories
        on answers.answer_category = answer_categories.answer_category

)

select * from final
