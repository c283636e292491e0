with

source as (

    select * from {{ ref('study_concepts') }}

),

renamed as (

    select
        concept,
        level,
        item_list,
        mart,
        concept_name_da,
        concept_name_en,
        question_da

    from source

),

final as (

    select * from renamed

)

select * from final
