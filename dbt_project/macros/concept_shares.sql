{#
    The body of a concept mart: shares of every answer category of the concepts whose study_concepts row
    names this mart, per wave, for all sector areas together and for each sector area.

    Rules, written once here:
    - Units: a responding head for respondent-level concepts, a concrete collaboration a head describes
      for collaboration-level ones. Only the record the resubmission rule counts is read.
    - n_answered: units with an answer on the item's scale, "Ved ikke" included.
    - Don't know is counted apart (n_dont_know, share_dont_know = n_dont_know / n_answered) and is never
      folded into any other category.
    - share = n_category / n_valid, where n_valid = n_answered - n_dont_know.
    - weighted_*: the same sums with each unit counting its head's non-response weight (int_survey_weights),
      rounded to 9 decimals so that equal sums added in another order compare equal.
    - The grid is complete: every wave x group x item x category of the scales the wave uses has a row;
      a cell nobody answered has zero counts and a null share.
#}

{% macro concept_shares() %}

with

answers as (

    select * from {{ ref('int_survey_answers_mapped') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

item_map as (

    select * from {{ ref('stg_reference__survey_item_map') }}

),

study_concepts as (

    select * from {{ ref('stg_reference__study_concepts') }}

),

study_items as (

    select * from {{ ref('stg_reference__study_items') }}

),

answer_scales as (

    select * from {{ ref('stg_reference__answer_scales') }}

),

answer_categories as (

    select * from {{ ref('stg_reference__answer_categories') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

concepts as (

    select * from study_concepts
    where mart = '{{ this.identifier }}'

),

responding_waves as (

    select distinct wave_id from heads
    where is_answering

),

wave_categories as (

    -- the categories a concept can take in a wave: those of the scales its variables use there
    select distinct
        item_map.wave_id,
        item_map.concept,
        answer_scales.answer_category

    from item_map
    inner join concepts
        on item_map.concept = concepts.concept
    inner join responding_waves
        on item_map.wave_id = responding_waves.wave_id
    inner join answer_scales
        on item_map.scale_id = answer_scales.scale_id
    where not answer_scales.is_dont_know

),

concept_items as (

    select
        concepts.concept,
        study_items.item_code,
        study_items.item_name_da,
        study_items.item_name_en

    from concepts
    inner join study_items
        on concepts.item_list = study_items.item_list

    union all

    -- a single question is its own item
    select
        concept,
        cast(null as integer) as item_code,
        concept_name_da as item_name_da,
        concept_name_en as item_name_en

    from concepts
    where item_list is null

),

breakdowns as (

    select
        'all' as breakdown,
        cast(null as integer) as sector_area_code,
        'Alle sektorområder' as sector_area_name_da,
        'All sector areas' as sector_area_name_en

    union all

    select
        'sector_area' as breakdown,
        sector_area_code,
        sector_area_name_da,
        sector_area_name_en

    from sector_areas

),

grid as (

    select
        wave_categories.wave_id,
        breakdowns.breakdown,
        breakdowns.sector_area_code,
        breakdowns.sector_area_name_da,
        breakdowns.sector_area_name_en,
        concepts.concept,
        concepts.level,
        concepts.concept_name_da,
        concepts.concept_name_en,
        concepts.question_da,
        concept_items.item_code,
        concept_items.item_name_da,
        concept_items.item_name_en,
        wave_categories.answer_category,
        answer_categories.answer_category_name_da,
        answer_categories.answer_category_name_en,
        answer_categories.sort_order as answer_sort_order

    from wave_categories
    inner join concepts
        on wave_categories.concept = concepts.concept
    inner join concept_items
        on wave_categories.concept = concept_items.concept
    inner join answer_categories
        on wave_categories.answer_category = answer_categories.answer_category
    cross join breakdowns

),

concept_answers as (

    select answers.* from answers
    inner join concepts
        on answers.concept = concepts.concept
    where answers.is_on_scale

),

answers_by_breakdown as (

    select
        'all' as breakdown,
        cast(null as integer) as group_sector_area_code,
        concept_answers.*

    from concept_answers

    union all

    select
        'sector_area' as breakdown,
        concept_answers.sector_area_code as group_sector_area_code,
        concept_answers.*

    from concept_answers

),

item_totals as (

    select
        wave_id,
        breakdown,
        group_sector_area_code,
        concept,
        item_code,
        count(*) as n_answered,
        count(*) filter (where is_dont_know) as n_dont_know,
        round(sum(weight), 9) as weighted_n_answered,
        round(coalesce(sum(weight) filter (where is_dont_know), 0), 9) as weighted_n_dont_know,
        round(coalesce(sum(weight) filter (where not is_dont_know), 0), 9) as weighted_n_valid

    from answers_by_breakdown
    group by all

),

category_counts as (

    select
        wave_id,
        breakdown,
        group_sector_area_code,
        concept,
        item_code,
        answer_category,
        count(*) as n_category,
        round(sum(weight), 9) as weighted_n_category

    from answers_by_breakdown
    where not is_dont_know
    group by all

),

joined as (

    select
        grid.*,
        coalesce(category_counts.n_category, 0) as n_category,
        coalesce(item_totals.n_answered, 0) as n_answered,
        coalesce(item_totals.n_dont_know, 0) as n_dont_know,
        coalesce(category_counts.weighted_n_category, 0) as weighted_n_category,
        coalesce(item_totals.weighted_n_answered, 0) as weighted_n_answered,
        coalesce(item_totals.weighted_n_dont_know, 0) as weighted_n_dont_know,
        coalesce(item_totals.weighted_n_valid, 0) as weighted_n_valid

    from grid
    left join item_totals
        on
            grid.wave_id = item_totals.wave_id
            and grid.breakdown = item_totals.breakdown
            and grid.sector_area_code is not distinct from item_totals.group_sector_area_code
            and grid.concept = item_totals.concept
            and grid.item_code is not distinct from item_totals.item_code
    left join category_counts
        on
            grid.wave_id = category_counts.wave_id
            and grid.breakdown = category_counts.breakdown
            and grid.sector_area_code is not distinct from category_counts.group_sector_area_code
            and grid.concept = category_counts.concept
            and grid.item_code is not distinct from category_counts.item_code
            and grid.answer_category = category_counts.answer_category

),

final as (

    select
        -- grain
        wave_id,
        breakdown,
        sector_area_code,
        concept,
        item_code,
        answer_category,

        -- labels
        sector_area_name_da,
        sector_area_name_en,
        level as unit,
        concept_name_da,
        concept_name_en,
        question_da,
        item_name_da,
        item_name_en,
        answer_category_name_da,
        answer_category_name_en,
        answer_sort_order,

        -- unweighted
        n_category,
        n_answered - n_dont_know as n_valid,
        cast(n_category as double) / nullif(n_answered - n_dont_know, 0) as share,

        -- weighted for non-response
        weighted_n_category,
        weighted_n_valid,
        weighted_n_category / nullif(weighted_n_valid, 0) as weighted_share,

        -- don't know, apart
        n_dont_know,
        n_answered,
        cast(n_dont_know as double) / nullif(n_answered, 0) as share_dont_know,
        weighted_n_dont_know,
        weighted_n_answered,
        weighted_n_dont_know / nullif(weighted_n_answered, 0) as weighted_share_dont_know

    from joined

)

select * from final

{% endmacro %}
