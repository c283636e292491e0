{#
    Keeps one respondent record per invited sector-area head, i.e. per
    (export_id, municipality_code, sector_area_code), of the exports a mapping
    entry ties to a wave (unmapped questionnaires stay in raw) and of the 98
    municipalities (Christiansø stays in raw). Preference order:
    answering records first, then completed over partial (what answers and what
    completes is the respondent_statuses seed's rule),
    then the latest closed_at, then the highest respondent_id.
    Each export is one survey round; is_latest_export marks the round the
    marts describe (the export whose records were created last).
#}

with

respondent_records as (

    select * from {{ ref('stg_survey__respondents') }}

),

statuses as (

    select * from {{ ref('stg_reference__respondent_statuses') }}

),

respondents as (

    select
        respondent_records.*,
        statuses.is_answering,
        statuses.is_completed

    from respondent_records
    inner join statuses
        on respondent_records.status_code = statuses.status_code
    where
        respondent_records.is_mapped
        and respondent_records.area_level = 'municipality'

),

exports as (

    select
        export_id,
        max(created_at) as export_created_at

    from respondents
    group by export_id

),

exports_ranked as (

    select
        export_id,
        row_number() over (
            order by
                export_created_at desc nulls last,
                export_id desc
        ) = 1 as is_latest_export

    from exports

),

counted as (

    select
        *,
        count(*) over head as n_records,
        count(*) filter (where is_answering) over head as n_answering_records

    from respondents
    window head as (partition by export_id, municipality_code, sector_area_code)

),

ranked as (

    select
        *,
        row_number() over (
            partition by export_id, municipality_code, sector_area_code
            order by
                is_answering desc,
                is_completed desc,
                closed_at desc nulls last,
                respondent_id desc
        ) as record_rank

    from counted

),

kept as (

    select * from ranked
    where record_rank = 1

),

final as (

    select
        -- ids
        kept.export_id,
        kept.municipality_code,
        kept.sector_area_code,
        kept.respondent_id,

        -- status of the kept record
        kept.status_code,
        kept.is_answering,
        kept.is_completed,

        -- timestamps of the kept record
        kept.created_at,
        kept.started_at,
        kept.closed_at,
        kept.modified_at,

        -- record counts for the head
        kept.n_records,
        kept.n_answering_records,
        kept.n_answering_records > 1 as has_resubmission,

        -- survey round
        exports_ranked.is_latest_export

    from kept
    inner join exports_ranked
        on kept.export_id = exports_ranked.export_id

)

select * from final
