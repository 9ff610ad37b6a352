-- wrk's requests for the orders service: GET /menu, GET /orders/{id} and
-- POST /orders in turn (each wrk thread keeps its own turn), so each route
-- gets a third of the load.
local requests = {}
local turn = 0

init = function(args)
    requests[1] = wrk.format("GET", "/menu")
    requests[2] = wrk.format("GET", "/orders/42")
    requests[3] = wrk.format("POST", "/orders", { ["Content-Type"] = "application/json" },
        '{"items":["latte","mocha","croissant"]}')
end

request = function()
    turn = turn % #requests + 1
    return requests[turn]
end
