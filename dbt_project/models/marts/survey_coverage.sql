{#
    Response rates by AAPOR's definitions, per wave, for the whole country and by region, municipality
    group and sector area. Each head is described by the record the resubmission rule counts.
      RR1 = completes / eligible heads
      RR2 = (completes + partials) / eligible heads
    Eligible heads are all invited heads but those outside the target group (ineligible); heads who never
    answered (new, distributed) and break-offs (dropped out) stay in the denominator.
#}

with

heads as (

    select * from {{ ref('int_survey_heads') }}

),

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

sector_areas as (

    select * from {{ ref('stg_reference__sector_areas') }}

),

waves as (

    select distinct wave_id from heads

),

groups as (

    select
        'all' as breakdown,
        cast(null as integer) as group_code,
        'Hele landet' as group_name_da,
        'The whole country' as group_name_en

    union all

    select distinct
        'region' as breakdown,
        region_code as group_code,
        region_name as group_name_da,
        region_name as group_name_en

    from municipalities

    union all

    select distinct
        'municipality_group' as breakdown,
        municipality_group_code as group_code,
        municipality_group_name as group_name_da,
        municipality_group_name as group_name_en

    from municipalities

    union all

    select
        'sector_area' as breakdown,
        sector_area_code as group_code,
        sector_area_name_da as group_name_da,
        sector_area_name_en as group_name_en

    from sector_areas

),

grid as (

    select
        waves.wave_id,
        groups.*

    from waves
    cross join groups

),

heads_by_breakdown as (

    select
        'all' as breakdown,
        cast(null as integer) as group_code,
        heads.*
    from heads
    union all
    select
        'region' as breakdown,
        heads.region_code as group_code,
        heads.*
    from heads
    union all
    select
        'municipality_group' as breakdown,
        heads.municipality_group_code as group_code,
        heads.*
    from heads
    union all
    select
        'sector_area' as breakdown,
        heads.sector_area_code as group_code,
        heads.*
    from heads

),

counts as (

    select
        wave_id,
        breakdown,
        group_code,
        count(*) as n_invited,
        count(*) filter (where disposition = 'ineligible') as n_ineligible,
        count(*) filter (where is_eligible) as n_eligible,
        count(*) filter (where disposition = 'complete') as n_complete,
        count(*) filter (where disposition = 'partial') as n_partial,
        count(*) filter (where disposition = 'break_off') as n_break_off,
        count(*) filter (where disposition = 'not_answered') as n_not_answered,
        count(*) filter (where has_other_records) as n_heads_with_other_records

    from heads_by_breakdown
    group by all

),

joined as (

    select
        grid.*,
        coalesce(counts.n_invited, 0) as n_invited,
        coalesce(counts.n_ineligible, 0) as n_ineligible,
        coalesce(counts.n_eligible, 0) as n_eligible,
        coalesce(counts.n_complete, 0) as n_complete,
        coalesce(counts.n_partial, 0) as n_partial,
        coalesce(counts.n_break_off, 0) as n_break_off,
        coalesce(counts.n_not_answered, 0) as n_not_answered,
        coalesce(counts.n_heads_with_other_records, 0) as n_heads_with_other_records

    from grid
    left join counts
        on
            grid.wave_id = counts.wave_id
            and grid.breakdown = counts.breakdown
            and grid.group_code is not distinct from counts.group_code

),

final as (

    select
        -- grain
        wave_id,
        breakdown,
        group_code,

        -- labels
        group_name_da,
        group_name_en,

        -- dispositions
        n_invited,
        n_ineligible,
        n_eligible,
        n_complete,
        n_partial,
        n_break_off,
        n_not_answered,
        n_heads_with_other_records,

        -- AAPOR RR1
        n_complete as rr1_numerator,
        n_eligible as rr1_denominator,
        cast(n_complete as double) / nullif(n_eligible, 0) as rr1,

        -- AAPOR RR2
        n_complete + n_partial as rr2_numerator,
        n_eligible as rr2_denominator,
        cast(n_complete + n_partial as double) / nullif(n_eligible, 0) as rr2

    from joined

)

select * from final
