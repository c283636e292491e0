{#
    The non-response weights the weighted shares use (how they are made: int_survey_weights).
#}

with

weights as (

    select * from {{ ref('int_survey_weights') }}

),

heads as (

    select * from {{ ref('int_survey_heads') }}

),

final as (

    select
        -- grain
        weights.wave_id,
        weights.respondent_pseudonym,

        -- the head
        weights.municipality_code,
        heads.municipality_name,
        weights.region_code,
        heads.region_name,
        weights.sector_area_code,
        heads.is_completed as is_respondent_completed,

        -- the weight and how it was made
        weights.weighting_method,
        weights.n_cell_heads,
        weights.n_cell_responding,
        weights.raking_region_error,
        weights.weight,
        -- added in one order, so the same weights give the same total to the last bit
        sum(weights.weight) over (
            partition by weights.wave_id
            order by weights.municipality_code, weights.sector_area_code
            rows between unbounded preceding and unbounded following
        ) as wave_weight_total

    from weights
    inner join heads
        on
            weights.wave_id = heads.wave_id
            and weights.municipality_code = heads.municipality_code
            and weights.sector_area_code = heads.sector_area_code

)

select * from final
