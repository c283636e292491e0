-- The maximum-variation proposal names exactly five municipalities, ranked 1 to 5 once each, all of them
-- candidates; one row per broken promise.

with

case_selection as (

    select * from {{ ref('case_selection') }}

),

proposed as (

    select * from case_selection
    where is_proposed

),

summary as (

    select
        count(*) as n_proposed,
        count(distinct proposal_rank) as n_distinct_ranks,
        coalesce(min(proposal_rank), 0) as min_rank,
        coalesce(max(proposal_rank), 0) as max_rank,
        count(*) filter (where not is_proposal_candidate) as n_not_candidates

    from proposed

),

ranks_outside_proposal as (

    select count(*) as n_ranked_not_proposed from case_selection
    where proposal_rank is not null and not is_proposed

),

final as (

    select
        summary.n_proposed,
        summary.n_distinct_ranks,
        summary.min_rank,
        summary.max_rank,
        summary.n_not_candidates,
        ranks_outside_proposal.n_ranked_not_proposed

    from summary
    cross join ranks_outside_proposal
    where
        summary.n_proposed != 5
        or summary.n_distinct_ranks != 5
        or summary.min_rank != 1
        or summary.max_rank != 5
        or summary.n_not_candidates > 0
        or ranks_outside_proposal.n_ranked_not_proposed > 0

)

select * from final
