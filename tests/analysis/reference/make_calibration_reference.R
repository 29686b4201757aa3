# Produce api_clus1.csv and calibration_reference.json for tests/analysis/test_calibration.py:
# R `survey` (Lumley) on its documented `api` example, a one-stage cluster sample of
# California schools (apiclus1: 15 school districts), calibrated three ways.
#
#   Rscript make_calibration_reference.R      (R 4.2, survey 4.1-1, jsonlite)
suppressMessages(library(survey))
data(api)
keep <- c("dnum", "pw", "fpc", "stype", "sch.wide", "comp.imp", "api00", "enroll")
write.csv(apiclus1[, keep], "api_clus1.csv", row.names = FALSE)

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = apiclus1, fpc = ~fpc)
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = c(1072, 5122))
# Converged raking (R's default stops at epsilon = 1 school), as `calibrate(calfun = "raking")`.
raked <- calibrate(dclus1, ~stype + sch.wide, c(`(Intercept)` = 6194, stypeH = 755,
                   stypeM = 1018, sch.wideYes = 5122), calfun = "raking", epsilon = 1e-12,
                   maxit = 200)
poststrat <- postStratify(dclus1, ~stype, pop.types)
linear <- calibrate(dclus1, ~stype + enroll, c(`(Intercept)` = 6194, stypeH = 755,
                    stypeM = 1018, enroll = 3811472))

one <- function(e) list(estimate = unname(coef(e))[1], se = unname(SE(e))[1])
designs <- list(srs_weights = dclus1, raked = raked, poststratified = poststrat, linear = linear)
out <- list(producer = paste("R", getRversion(), "survey", packageVersion("survey")))
for (name in names(designs)) {
  d <- designs[[name]]
  m <- svymean(~api00, d, deff = TRUE)
  mr <- svymean(~api00, d, deff = "replace")
  prop <- svymean(~as.numeric(comp.imp == "Yes"), d)
  total <- svytotal(~enroll, d)
  by_type <- svyby(~api00, ~stype, d, svymean)
  out[[name]] <- list(
    weights_head = unname(weights(d))[1:5],
    mean_api00 = c(one(m), deff = unname(deff(m)), deff_replace = unname(deff(mr))),
    total_enroll = c(one(total), deff = unname(deff(svytotal(~enroll, d, deff = TRUE)))),
    share_comp_imp_yes = c(one(prop), deff = unname(deff(svymean(~as.numeric(comp.imp == "Yes"), d, deff = TRUE)))),
    total_stype = list(estimate = unname(coef(svytotal(~stype, d))), se = unname(SE(svytotal(~stype, d)))),
    mean_api00_by_stype = list(estimate = unname(coef(by_type)), se = unname(SE(by_type))),
    degf = degf(d)
  )
}
cis <- list()
for (method in c("logit", "likelihood", "asin", "beta", "mean")) {
  ci <- svyciprop(~I(comp.imp == "Yes"), dclus1, method = method)
  cis[[method]] <- list(estimate = as.numeric(ci), ci = unname(as.vector(confint(ci))))
}
out$proportion_ci_comp_imp <- cis
chisq <- list()
for (statistic in c("F", "Chisq", "Wald", "adjWald")) {
  test <- svychisq(~sch.wide + stype, raked, statistic = statistic)
  chisq[[statistic]] <- list(statistic = unname(test$statistic), parameter = unname(test$parameter),
                             p_value = unname(test$p.value))
}
out$raked_chisq_sch_wide_by_stype <- chisq
writeLines(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "calibration_reference.json")
