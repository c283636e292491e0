{#
    The concrete collaborations the heads describe: one row per wave, responding head and collaboration
    slot in which the head answered at least one question about the collaboration. Partners, topics and
    initiators are listed by their Danish names in item order; counts give "several partners" directly.
#}

with

answers as (

    select * from {{ ref('int_survey_answers_mapped') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

study_items as (

    select * from {{ ref('stg_reference__study_items') }}

),

collaboration_answers as (

    select
        answers.*,
        study_items.item_name_da

    from answers
    left join study_items
        on
            answers.item_list = study_items.item_list
            and answers.item_code = study_items.item_code
    where
        answers.level = 'collaboration'
        and answers.is_on_scale

),

described as (

    select
        wave_id,
        municipality_code,
        sector_area_code,
        collaboration_slot,
        any_value(respondent_pseudonym) as respondent_pseudonym,
        any_value(weight) as weight,
        count(*) filter (where concept = 'collaboration_partner' and answer_category = 'selected') as n_partner_types,
        count(*) filter (where concept = 'collaboration_topic' and answer_category = 'selected') as n_topics,
        count(*) filter (where concept = 'collaboration_initiator' and answer_category = 'selected') as n_initiators,
        string_agg(item_name_da, '; ' order by item_code) filter (
            where concept = 'collaboration_partner' and answer_category = 'selected'
        ) as partner_types_da,
        string_agg(item_name_da, '; ' order by item_code) filter (
            where concept = 'collaboration_topic' and answer_category = 'selected'
        ) as topics_da,
        string_agg(item_name_da, '; ' order by item_code) filter (
            where concept = 'collaboration_initiator' and answer_category = 'selected'
        ) as initiators_da

    from collaboration_answers
    group by wave_id, municipality_code, sector_area_code, collaboration_slot

),

final as (

    select
        -- grain
        described.wave_id,
        described.respondent_pseudonym,
        described.collaboration_slot,

        -- the head
        described.municipality_code,
        heads.municipality_name,
        heads.region_code,
        heads.region_name,
        described.sector_area_code,

        -- the collaboration
        described.n_partner_types,
        described.n_partner_types >= 2 as has_several_partner_types,
        described.partner_types_da,
        described.n_topics,
        described.topics_da,
        described.n_initiators,
        described.initiators_da,

        -- weight of the head
        described.weight

    from described
    inner join heads
        on
            described.wave_id = heads.wave_id
            and described.municipality_code = heads.municipality_code
            and described.sector_area_code = heads.sector_area_code

)

select * from final
