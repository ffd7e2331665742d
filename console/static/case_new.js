// 新建案件: remove a member's row, focus the new row and the error summary (no inline script).
(function () {
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove-member]");
    if (!button) { return; }
    var rows = document.querySelectorAll("#member-rows .member");
    if (rows.length <= 1) { return; }  // a household has at least its applicant
    var row = document.getElementById(button.getAttribute("data-remove-member"));
    if (row) {
      row.remove();
      var add = document.getElementById("add-member");
      if (add) { add.focus(); }
    }
  });
  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "member-rows") {
      var rows = target.querySelectorAll(".member");
      var input = rows.length && rows[rows.length - 1].querySelector("input");
      if (input) { input.focus(); }
    }
  });
  document.addEventListener("DOMContentLoaded", function () {
    var summary = document.getElementById("form-errors");
    if (summary) { summary.setAttribute("tabindex", "-1"); summary.focus(); }
  });
})();
