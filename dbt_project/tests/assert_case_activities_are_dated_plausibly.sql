-- Warns (does not block) when an activity is dated before its case's fieldwork began or in the future:
-- most often a typing error in the register. Returns the activities, by id and sheet row.

{{ config(severity='warn') }}

with

activities as (

    select * from {{ ref('int_case_activities_described') }}

),

final as (

    select
        activity_id,
        case_id,
        source_file,
        source_row,
        case
            when is_in_future then 'dated in the future'
            else 'dated before its case''s fieldwork began'
        end as problem

    from activities
    where is_before_fieldwork or is_in_future

)

select * from final
