{#
    The invited sector-area heads of each wave: one row per wave, municipality and sector area, described
    by the record the resubmission rule counts (int_survey_records_ranked), with the head's region and
    municipality group. is_latest_wave marks the wave whose records were created last.
#}

with

records as (

    select * from {{ ref('int_survey_records_ranked') }}

),

municipalities as (

    select * from {{ ref('int_municipalities') }}

),

waves as (

    select
        wave_id,
        row_number() over (order by max(created_at) desc nulls last, wave_id desc) = 1 as is_latest_wave

    from records
    group by wave_id

),

counted as (

    select * from records
    where is_counted

),

final as (

    select
        -- ids
        counted.wave_id,
        counted.municipality_code,
        counted.sector_area_code,
        counted.export_id,
        counted.respondent_id,
        counted.respondent_pseudonym,

        -- where the head is
        municipalities.municipality_name,
        municipalities.region_code,
        municipalities.region_name,
        municipalities.municipality_group_code,
        municipalities.municipality_group_name,

        -- status of the counted record
        counted.status_code,
        counted.status_key,
        counted.disposition,
        counted.is_eligible,
        counted.is_answering,
        counted.is_completed,
        counted.closed_at,

        -- records of the head
        counted.n_head_records,
        counted.n_head_records > 1 as has_other_records,

        -- wave
        waves.is_latest_wave

    from counted
    inner join municipalities
        on counted.municipality_code = municipalities.municipality_code
    inner join waves
        on counted.wave_id = waves.wave_id

)

select * from final
