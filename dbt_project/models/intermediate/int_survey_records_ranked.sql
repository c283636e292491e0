{#
    Every respondent record of a mapped wave in one of the 98 municipalities, ranked within its head
    (wave, municipality, sector area) by the resubmission rule, written once here:
      the latest completed record counts; when the head has none, the latest partial one; when it has
      no answering record, the latest record (its status then describes the head).
    "Latest" is the time the record was closed, else last modified, else created; ties go to the
    later export, then the higher respondent id. Every other record is kept, flagged is_counted = false,
    and listed in the survey_resubmissions mart; none is deleted.
#}

with

respondent_records as (

    select * from {{ ref('stg_survey__respondents') }}

),

statuses as (

    select * from {{ ref('stg_reference__respondent_statuses') }}

),

records as (

    select
        respondent_records.*,
        statuses.status_key,
        statuses.disposition,
        statuses.is_eligible,
        statuses.is_answering,
        statuses.is_completed,
        coalesce(
            respondent_records.closed_at,
            respondent_records.modified_at,
            respondent_records.created_at
        ) as record_time

    from respondent_records
    inner join statuses
        on respondent_records.status_code = statuses.status_code
    where
        respondent_records.is_mapped
        and respondent_records.area_level = 'municipality'

),

ranked as (

    select
        *,
        row_number() over head_records as record_rank,
        count(*) over head as n_head_records

    from records
    window
        head as (partition by wave_id, municipality_code, sector_area_code),
        head_records as (
            partition by wave_id, municipality_code, sector_area_code
            order by
                is_completed desc,
                is_answering desc,
                record_time desc nulls last,
                export_id desc,
                respondent_id desc
        )

),

final as (

    select
        -- ids
        wave_id,
        municipality_code,
        sector_area_code,
        export_id,
        respondent_id,
        respondent_pseudonym,

        -- status
        status_code,
        status_key,
        disposition,
        is_eligible,
        is_answering,
        is_completed,

        -- timestamps
        created_at,
        started_at,
        closed_at,
        modified_at,
        record_time,

        -- the resubmission rule
        record_rank,
        n_head_records,
        record_rank = 1 as is_counted

    from ranked

)

select * from final
