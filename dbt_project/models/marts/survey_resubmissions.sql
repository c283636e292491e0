{#
    Every record of a head who has more than one record in a wave, with which one the resubmission rule
    counts and why the others do not (the rule: int_survey_records_ranked). Nothing is deleted: the
    records not counted stay in raw and are listed here.
#}

with

records as (

    select * from {{ ref('int_survey_records_ranked') }}

),

final as (

    select
        -- grain
        wave_id,
        respondent_pseudonym,

        -- the head
        municipality_code,
        sector_area_code,

        -- the record
        export_id,
        status_key,
        is_completed,
        is_answering,
        record_time,
        n_head_records,
        record_rank,
        is_counted,
        case
            when is_counted and is_completed then 'counted: the latest completed record of the head'
            when is_counted and is_answering then 'counted: the head has no completed record; the latest partial one'
            when is_counted then 'counted: the head has no answering record; the latest record'
            else 'not counted: the head has a record the rule prefers'
        end as rule_outcome

    from records
    where n_head_records > 1

)

select * from final
