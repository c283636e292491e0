-- A case's fieldwork cannot end before it starts.

with

case_studies as (

    select * from {{ ref('stg_cases__case_studies') }}

),

final as (

    select
        case_id,
        fieldwork_start_date,
        fieldwork_end_date

    from case_studies
    where fieldwork_end_date < fieldwork_start_date

)

select * from final
