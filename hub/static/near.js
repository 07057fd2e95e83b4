/* "Near me" on a dataset page: the browser's location (asked only when the button is pressed, never sent
   anywhere but this site's own preview query) becomes `near=lat,lon,radius` and the list is sorted by distance.
   Without JavaScript or geolocation the button stays hidden; "near this place" links on record pages need neither. */
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  var form = document.getElementById("pf");
  if (!button || !form || !navigator.geolocation) { return; }
  button.hidden = false;

  function set(name, value) {
    var input = form.querySelector("input[type=hidden][name='" + name + "']");
    if (!input) {
      input = document.createElement("input");
      input.type = "hidden";
      input.name = name;
      form.appendChild(input);
    }
    input.value = value;
  }

  button.addEventListener("click", function () {
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (position) {
      var radius = document.getElementById("near-r").value;
      set("near", position.coords.latitude.toFixed(6) + "," + position.coords.longitude.toFixed(6) + "," + radius);
      set("sort", "distance_m");
      form.submit();
    }, function () {
      button.disabled = false;
      var note = document.createElement("p");
      note.className = "error";
      note.setAttribute("role", "alert");
      note.textContent = button.dataset.textError || "";
      form.appendChild(note);
    }, { timeout: 15000, maximumAge: 60000 });
  });
}());
